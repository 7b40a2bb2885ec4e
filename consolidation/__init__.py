"""Long-term memory: candidate facts → training data → LoRA → gate → GGUF → registry."""
