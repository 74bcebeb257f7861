"""Wiring of the sotaboard code location: settings, resources, source clients, jobs, schedules, CLI."""
