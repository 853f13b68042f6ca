"""Azure components: `mlops:azure:<Name>` ComponentResources (azure-native 3)."""
