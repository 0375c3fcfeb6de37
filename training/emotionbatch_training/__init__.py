"""Multi-task, multi-modal emotion model (Ispas, Deschamps-Berger, Devillers 2023) for EmotionBatch bundles."""

LABELS = ("angry", "happy", "sad", "neutral")
