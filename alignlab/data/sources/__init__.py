"""Parsers for public preference datasets whose upstream files need more than a field rename."""
