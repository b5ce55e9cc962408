"""Predictor-guided searches of the papers: regularisers, genetic algorithm, memory filter."""
