"""The complaint domain, pure: scoring, rules, tiers, SLA arithmetic, surge detection.

Nothing in this package does I/O, reads the clock or the environment, or logs; time comes in
as an argument. It may import `streams.records` (plain data) and nothing else of kesu.
"""
