"""Which file names the indexer treats as audio.

Every extension here decodes with the system's libsndfile (1.1+ reads mp3 and opus); the tests
write and read back one file of each kind, so a libsndfile without one of them fails loudly.
"""

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc"})
