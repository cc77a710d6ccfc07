"""Auditing the fixity of whole collections in one worker pool."""
