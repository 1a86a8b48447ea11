"""Stem separation plugin: MMDenseNet / MMDenseLSTM masks split a mix into vocals, drums, bass
and other; trained on multitracks rendered here with FluidSynth from General MIDI soundfonts."""
