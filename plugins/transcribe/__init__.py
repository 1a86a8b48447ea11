"""Audio to notes: a small CRNN of the Onsets-and-Frames / basic-pitch family."""
