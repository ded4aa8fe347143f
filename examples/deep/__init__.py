"""Shared input side of the deep-SNN examples: dataset loading (digits) and spike coding (coding)."""
