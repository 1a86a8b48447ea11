"""Music Transformer plugin: a performance-event Transformer with relative self-attention that
continues a MIDI primer, trained on the music21 corpus (see README.md)."""
