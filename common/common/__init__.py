"""What the three shop services share.

`common` never imports a service; each service imports the pieces it needs:
settings pieces, Celery conventions, health checks and the error format.
"""
