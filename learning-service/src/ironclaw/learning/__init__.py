"""The learning service: routing policy and preferences learned from outcomes."""
