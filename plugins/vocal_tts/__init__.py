"""vocal_tts: lyrics (+ melody) to a sung or spoken vocal line on the beat grid."""
