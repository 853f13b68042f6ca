"""AWS components: `mlops:aws:<Name>` ComponentResources."""
