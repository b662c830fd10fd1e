"""What every engine shares: the metrics it records, its models' seeds, the models it fits."""
