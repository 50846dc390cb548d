"""DeBut (deformable butterfly) chains for the network compiler's ``"debut"`` transform kind:
chain generation and search (:mod:`.chain`, pure Python)."""
