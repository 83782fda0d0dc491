"""Training neural networks with TensorFlow: the library every notebook imports."""
