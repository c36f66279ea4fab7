// Placeholder; replaced by the session layer.
