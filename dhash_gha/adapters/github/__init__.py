"""GitHub integration: branch protection and environment verification, deployments,
commit statuses and incident issues, through the REST API (PyGithub's requester).

Modules here import PyGithub lazily, inside the client, so importing the package is cheap.
"""
