// Testimony media: metadata, redaction specs and derivatives made with the stock ffmpeg.
