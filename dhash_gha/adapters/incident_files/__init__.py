"""Incident archives on disk: ``incidents/INC-…/`` written, and its facts gathered back."""
