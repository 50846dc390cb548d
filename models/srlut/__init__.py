"""SR-LUT / MuLUT on the model side: the SR-LUT network, its training and transfer, import of the
authors' released tables, and scoring of an artifact against bicubic."""
