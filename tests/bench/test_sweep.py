"""edgeforge sweep: spec parsing, a grid and an Optuna search on a real LocalCluster of two
worker processes, a worker killed under a trial, resumed sweeps that rerun nothing, and
the --scheduler path against a scheduler and a worker started as processes of their own.

The designs are small random networks and the trials cycle-model only (no targets, no RTL
run), so that a trial takes seconds."""

import csv
import io
import json
import os
import subprocess
import sys
import time

import pytest

from edgeforge.artifact import save
from edgeforge.bench import compare, sweep
from edgeforge.bench.compare import SpecError
from edgeforge.bench.sweep_spec import parse_sweep
from edgeforge.schemes.network import random_artifact

from network_helpers import SMALL_REF


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return save(random_artifact(SMALL_REF, seed=3), tmp_path_factory.mktemp("art") / "small.npz")


@pytest.fixture(scope="module")
def client():
    """One LocalCluster of two single-threaded worker processes for the module's sweeps."""
    with sweep.dask_client(workers=2) as c:
        yield c


def _spec(artifact, body: str, source: str = "s.toml"):
    return parse_sweep(f'targets = "none"\nverify = false\n{body}\n[base]\n'
                       f'artifact = "{artifact}"\n', source)


def _no_cluster(*a, **k):
    pytest.fail("a cluster was started: something was run again")


@pytest.mark.parametrize("text, message", [
    ("mode = 'random'", r"mode: expected 'grid' or 'optuna', got 'random'"),
    ("targets = ['vivado']", r"targets: expected \"none\" or a list of distinct targets"),
    ("[base]\noptions = {}", r"base\.artifact: expected a non-empty string, got None"),
    ("[base]\nartifact = 'shipped:nope'\n[parameters]\nfolding = ['folded']",
     r"base\.artifact: unknown shipped artifact 'nope'"),
    ("[base]\nartifact = 'shipped:digits-ref'", r"parameters: expected a table of at least one"),
    ("[base]\nartifact = 'shipped:digits-ref'\n[parameters]\nspeed = [1]",
     r"parameters\.speed: not a design option of this artifact's scheme; known: .*folding"),
    ("[base]\nartifact = 'shipped:digits-ref'\n[parameters]\ntarget_cycles = []",
     r"parameters\.target_cycles: expected at least one value, got \[\]"),
    ("[base]\nartifact = 'shipped:digits-ref'\n[parameters]\ntarget_cycles = {low = 8}",
     r"parameters\.target_cycles: expected a list of values"),
    ("[base]\nartifact = 'shipped:digits-ref'\n[parameters]\n"
     "target_cycles = {low = 8, high = 4, step = 2}",
     r"parameters\.target_cycles\.high: expected an integer of at least 8, got 4"),
    ("targets = ['generic']\n[base]\nartifact = 'shipped:digits-ref'\n[parameters]\n"
     "device = ['ecp5-25f']", r"parameters\.device: 'fits ecp5-25f' needs the ecp5 target"),
    ("[base]\nartifact = 'shipped:digits-ref'\n[parameters]\ntarget_cycles = [64]\n"
     "[[objective]]\nname = 'speed'", r"objective\[0\]\.name: expected one of \[.*'area'"),
    ("targets = 'none'\n[base]\nartifact = 'shipped:digits-ref'\n[parameters]\n"
     "target_cycles = [64]\n[[objective]]\nname = 'ecp5_lut4'",
     r"objective\[0\]\.name: 'ecp5_lut4' needs the ecp5 target; targets are \[\]"),
    ("constraints = ['cycles < 3']\n[base]\nartifact = 'shipped:digits-ref'\n[parameters]\n"
     "target_cycles = [64]", r"constraints\[0\]: expected 'fits PART' or 'NAME <= X'"),
    ("mode = 'optuna'\n[base]\nartifact = 'shipped:digits-ref'\n[parameters]\n"
     "target_cycles = [64]", r"trials: mode 'optuna' needs a number of trials"),
    ("trials = 3\n[base]\nartifact = 'shipped:digits-ref'\n[parameters]\ntarget_cycles = [64]",
     r"trials: a grid runs every combination"),
])
def test_bad_specs_are_refused_naming_the_field(text, message):
    with pytest.raises(SpecError, match=message):
        parse_sweep(text, "s.toml")


def test_cache_keys_and_fits():
    # A verified row on the default parts keeps compare's own cache name.
    assert compare.cache_key("abc", ("generic", "ecp5")) == "abc-generic-ecp5"
    assert compare.cache_key("abc", (), False) == "abc-none-unverified"
    assert compare.cache_key("abc", ("ecp5",), True, {"ecp5": "ecp5-45f"}) == "abc-ecp5@ecp5-45f"
    on_25f = {"cost": {"ecp5": {"device": "ecp5-25f", "fits": True}}}
    on_85f = {"cost": {"ecp5": {"device": "ecp5-85f", "fits": True}}}
    assert sweep.fits(on_25f, "ecp5-25f") and sweep.fits(on_25f, "ecp5-85f")
    assert not sweep.fits(on_85f, "ecp5-25f") and not sweep.fits({"cost": {}}, "ecp5-25f")


def test_grid_sweep_on_two_workers_then_a_rerun_runs_nothing(artifact, client, tmp_path,
                                                            monkeypatch):
    spec = _spec(artifact, 'constraints = ["cycles <= 200"]\n[parameters]\n'
                           'folding = ["folded", "parallel", [[3, 1]]]\n'
                           'pixels_per_beat = [1]\n'
                           '[[objective]]\nname = "cycles"\n[[objective]]\nname = "energy"',
                 "grid.toml")
    cache = tmp_path / "cache"
    report = sweep.run_sweep(spec, client=client, cache=cache, work_dir=tmp_path / "work",
                             progress=False)
    trials = report["trials"]
    assert [t["number"] for t in trials] == list(range(3))
    by = {(t["params"]["folding"], t["params"]["pixels_per_beat"]): t for t in trials}
    bad = by[("[[3,1]]", 1)]
    assert bad["state"] == "failed" and "folding must list one folding" in bad["error"]
    good = [t for t in trials if t["state"] != "failed"]
    assert len(good) == 2 and all(t["state"] == "measured" for t in good)
    assert all(t["worker"].startswith("worker-") for t in good)
    assert len(list(cache.glob("*-none-unverified.json"))) == len({t["key"] for t in good})
    # Each record is the design's own cycle model.
    folded, parallel = by[("folded", 1)]["record"], by[("parallel", 1)]["record"]
    assert (folded["performance"]["cycles_per_input"]
            > parallel["performance"]["cycles_per_input"])
    rows = sweep.sweep_rows(report)
    for r in rows:
        if r["state"] != "failed":
            assert r["feasible"] == (r["cycles per output"] <= 200)
    front = [r for r in rows if r.get("pareto")]
    assert front and all(r["feasible"] for r in front)
    written = sweep.publish(report, tmp_path / "out", "grid")
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "grid.csv").read_text())))
    assert [int(r["trial"]) for r in table] == list(range(3))
    assert "folding must list one folding" in (tmp_path / "out" / "grid.md").read_text()
    assert (tmp_path / "out" / "grid_cycles_energy.png") in written
    import pyarrow.parquet as pq
    assert pq.read_table(tmp_path / "out" / "grid.parquet").num_rows == 3
    # Re-run: every good trial comes from the cache and no cluster is started.
    monkeypatch.setattr(sweep, "dask_client", _no_cluster)
    again = sweep.run_sweep(spec, cache=cache, work_dir=tmp_path / "work", progress=False)
    assert [t["state"] for t in again["trials"]] == [
        "failed" if t["state"] == "failed" else "cached" for t in trials]
    assert ([t["record"].get("design_hash") for t in again["trials"]]
            == [t["record"].get("design_hash") for t in trials])


def test_optuna_search_then_a_resumed_study_runs_nothing(artifact, client, tmp_path,
                                                        monkeypatch):
    spec = _spec(artifact, 'mode = "optuna"\ntrials = 3\nseed = 3\npopulation = 2\n'
                           'constraints = ["cycles <= 300"]\n'
                           '[parameters]\ntarget_cycles = { low = 64, high = 2048, log = true }\n'
                           'pixels_per_beat = [1, 2, 4]\n'
                           '[[objective]]\nname = "cycles"\n[[objective]]\nname = "latency"',
                 "opt.toml")
    cache, work = tmp_path / "cache", tmp_path / "work"
    import optuna
    from optuna.storages.journal import JournalFileBackend
    journal = lambda: optuna.storages.JournalStorage(JournalFileBackend(str(work / "opt.journal")))
    # An earlier sweep stopped with a trial in flight: it goes again, not counted twice.
    work.mkdir()
    stopped = optuna.create_study(study_name="opt", storage=journal(),
                                  directions=["minimize", "minimize"])
    stopped.enqueue_trial({"target_cycles": 256, "pixels_per_beat": 2})
    sweep._suggest(stopped.ask(), spec)
    report = sweep.run_sweep(spec, client=client, cache=cache, work_dir=work, progress=False)
    trials = report["trials"]
    assert [t["number"] for t in trials] == [1, 2, 3]
    assert trials[0]["params"] == {"target_cycles": 256, "pixels_per_beat": 2}
    assert all(t["state"] in ("measured", "cached") for t in trials), trials
    assert any(t["state"] == "measured" for t in trials)
    study = optuna.load_study(study_name="opt", storage=journal())
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert study.trials[0].user_attrs["interrupted"]
    for t, frozen in zip(trials, study.trials[1:]):
        perf = t["record"]["performance"]
        assert frozen.values[0] == perf["cycles_per_input"] / perf["outputs_per_input"]
        assert frozen.params["target_cycles"] == t["params"]["target_cycles"]
        # NSGA-II reads the constraint from the trial (Optuna 5: at most 0 where it holds).
        assert frozen.constraints == {"cycles <= 300": frozen.values[0] - 300}
    assert study.best_trials
    # The same spec again: the study is done, nothing runs and no cluster is started.
    monkeypatch.setattr(sweep, "dask_client", _no_cluster)
    again = sweep.run_sweep(spec, cache=cache, work_dir=work, progress=False)
    assert [t["number"] for t in again["trials"]] == [1, 2, 3]
    assert [t["key"] for t in again["trials"]] == [t["key"] for t in trials]


def test_a_killed_worker_s_trial_is_retried_and_counted_once(artifact, client, tmp_path):
    # The launcher kills the worker that runs the first trial (its parent process), once.
    marker = tmp_path / "killed"
    killer = tmp_path / "killer.py"
    killer.write_text(f"""import os, signal, sys
if not os.path.exists({str(marker)!r}):
    open({str(marker)!r}, "w").write(str(os.getppid()))
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
os.execv(sys.argv[1], sys.argv[1:])
""")
    # Two paces that give one folding: one design, measured once for both trials.
    spec = _spec(artifact, '[parameters]\ntarget_cycles = [2000, 4096]', "kill.toml")
    before = set(client.scheduler_info()["workers"])
    report = sweep.run_sweep(spec, client=client, cache=tmp_path / "cache",
                             work_dir=tmp_path / "work", launcher=[sys.executable, str(killer)],
                             progress=False)
    assert marker.is_file()
    import psutil
    killed = int(marker.read_text())               # that worker process is gone
    assert (not psutil.pid_exists(killed)
            or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE)
    trials = report["trials"]
    assert [(t["number"], t["state"]) for t in trials] == [(0, "measured"), (1, "measured")]
    assert trials[1]["same_as"] == 0 and trials[0]["key"] == trials[1]["key"]
    assert trials[0]["record"]["performance"]["cycles_per_input"] > 0
    assert [p.name for p in (tmp_path / "cache").glob("*.json")] == [f"{trials[0]['key']}.json"]
    # One trial process ran to the end (the killed one left no record): counted once.
    written = [r for r in (tmp_path / "work" / "workers").glob("worker-*/trials/*.json")
               if not r.name.endswith(".row.json")]
    assert len(written) == 1
    # The nanny has started a worker in the killed one's place.
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(client.scheduler_info()["workers"]) == 2
    assert set(client.scheduler_info()["workers"]) != before


def test_a_trial_that_fails_on_its_worker_keeps_its_reason(artifact, client, tmp_path):
    # A trial process that dies, and one that outlives the spec's timeout.
    spec = _spec(artifact, '[parameters]\nfolding = ["folded"]', "dies.toml")
    died = sweep.run_sweep(spec, client=client, cache=tmp_path / "cache", progress=False,
                           work_dir=tmp_path / "work",
                           launcher=[sys.executable, "-c", "import sys; sys.exit('out of luck')"])
    (trial,) = died["trials"]
    assert trial["state"] == "failed"
    assert trial["error"] == "TrialProcessError: exit status 1: out of luck"
    slow = _spec(artifact, 'trial_timeout_s = 1\n[parameters]\nfolding = ["folded"]', "hangs.toml")
    hung = sweep.run_sweep(slow, client=client, cache=tmp_path / "cache", progress=False,
                           work_dir=tmp_path / "work",
                           launcher=[sys.executable, "-c", "import time; time.sleep(60)"])
    assert hung["trials"][0]["error"] == "TimeoutError: the trial took more than 1 s"
    assert not list((tmp_path / "cache").glob("*.json"))       # failures are not cached
    assert "out of luck" in sweep.render_markdown(died)


@pytest.mark.slow
def test_the_scheduler_option_runs_on_a_cluster_of_separate_processes(artifact, tmp_path):
    """``edgeforge sweep --scheduler ADDRESS`` against ``dask scheduler`` and ``dask worker``
    started as processes of their own (as on a cluster, here on one machine)."""
    from edgeforge.cli import main
    bindir = os.path.dirname(sys.executable)
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([os.path.join(bindir, "dask"), "scheduler", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.5)
        address = json.loads(info.read_text())["address"]
        procs += [subprocess.Popen([os.path.join(bindir, "dask"), "worker", address,
                                    "--nthreads", "1", "--no-dashboard"], cwd=tmp_path,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                  for _ in range(2)]
        spec = tmp_path / "remote.toml"
        spec.write_text(f'targets = "none"\nverify = false\n[base]\nartifact = "{artifact}"\n'
                        '[parameters]\nfolding = ["folded", "parallel"]\n')
        status = main(["sweep", str(spec), "--scheduler", address, "-o", str(tmp_path / "out"),
                       "--work-dir", str(tmp_path / "work"), "--cache", str(tmp_path / "c")])
        assert status == 0
        report = json.loads((tmp_path / "out" / "remote.json").read_text())
        assert [t["state"] for t in report["trials"]] == ["measured", "measured"]
        assert all(t["worker"].startswith("worker-tcp") for t in report["trials"])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_the_command_line_refuses_a_bad_spec_in_one_line(tmp_path, capsys):
    from edgeforge.cli import main
    spec = tmp_path / "bad.toml"
    spec.write_text("mode = 'random'\n")
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out")]) == 2
    assert "mode: expected 'grid' or 'optuna', got 'random'" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "spec: no such file" in capsys.readouterr().err
