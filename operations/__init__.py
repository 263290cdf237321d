"""What the people running SERS see: readiness, metrics, the scheduled jobs' last runs and
the state staff's operations page. Shows no student data."""
