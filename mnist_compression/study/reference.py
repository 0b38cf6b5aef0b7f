"""The original TensorFlow tutorial's numbers, which the notebooks and docs/results.md compare with.

Reported there after 15 epochs on the 10,000 test digits.
"""

# λ -> (rate in bits per digit, distortion as mean absolute error)
ORIGINAL_TUTORIAL = {2000.0: (41.21, 0.0356), 500.0: (14.95, 0.0601), 300.0: (8.32, 0.0768)}
TUTORIAL_LAMBDAS = tuple(sorted(ORIGINAL_TUTORIAL))

__all__ = ["ORIGINAL_TUTORIAL", "TUTORIAL_LAMBDAS"]
