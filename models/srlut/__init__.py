"""SR-LUT / MuLUT on the model side: the network of any kernel set and stages, its training and
transfer, import of the authors' released tables, and scoring of an artifact against bicubic."""
