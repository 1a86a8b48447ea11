"""MelNet plugin: a multiscale autoregressive mel-spectrogram model that renders notes as audio."""
