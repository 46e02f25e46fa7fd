"""The two models: the sentence embedder (sentence-transformers, run by ONNX Runtime with int8
weights by default) and the GGUF generator (llama-cpp-python, or a model server)."""
