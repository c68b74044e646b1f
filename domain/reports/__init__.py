"""Dashboard aggregates and reports: rollups kept by the services that make each change, counters
of current state kept by triggers, the reports computed from them, and the stored daily report."""
