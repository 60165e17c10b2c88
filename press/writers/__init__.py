"""One small writer per output format, each starting from the same resolved Document."""
