"""Cycle and memory-traffic models of the engines, from their structure (no simulation)."""
