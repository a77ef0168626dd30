"""LatentLab: train autoencoders and VAEs on small images and watch them learn."""

__version__ = "0.1.0"
