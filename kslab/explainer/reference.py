"""The background data the explainer compares an instance with: 30 rows of the iris data set.

Every fifth row of each class of scikit-learn's bundled iris data (``load_iris()``: rows 0, 5, ..., 145),
so the three classes weigh the same and the predictor request stays small (30 rows per coalition).
Embedded so the explainer image needs no scikit-learn; tests/test_explainer_attribution.py checks these
numbers against ``load_iris``.
"""

from __future__ import annotations

FEATURE_NAMES: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")

BACKGROUND: tuple[tuple[float, ...], ...] = (
    # setosa
    (5.1, 3.5, 1.4, 0.2), (5.4, 3.9, 1.7, 0.4), (5.4, 3.7, 1.5, 0.2), (5.7, 4.4, 1.5, 0.4), (5.4, 3.4, 1.7, 0.2),
    (5.0, 3.0, 1.6, 0.2), (4.8, 3.1, 1.6, 0.2), (5.0, 3.2, 1.2, 0.2), (5.0, 3.5, 1.3, 0.3), (4.8, 3.0, 1.4, 0.3),
    # versicolor
    (7.0, 3.2, 4.7, 1.4), (5.7, 2.8, 4.5, 1.3), (5.0, 2.0, 3.5, 1.0), (6.7, 3.1, 4.4, 1.4), (5.9, 3.2, 4.8, 1.8),
    (6.6, 3.0, 4.4, 1.4), (5.5, 2.4, 3.8, 1.1), (6.0, 3.4, 4.5, 1.6), (5.5, 2.6, 4.4, 1.2), (5.7, 3.0, 4.2, 1.2),
    # virginica
    (6.3, 3.3, 6.0, 2.5), (7.6, 3.0, 6.6, 2.1), (6.5, 3.2, 5.1, 2.0), (6.4, 3.2, 5.3, 2.3), (6.9, 3.2, 5.7, 2.3),
    (7.2, 3.2, 6.0, 1.8), (7.4, 2.8, 6.1, 1.9), (7.7, 3.0, 6.1, 2.3), (6.7, 3.1, 5.6, 2.4), (6.7, 3.0, 5.2, 2.3),
)
