"""Connection profiles: the model, the profiles file, imports and the secrets store."""
