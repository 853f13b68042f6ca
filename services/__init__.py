"""What the platform serves: the model server, the trainer and the drift monitor."""
