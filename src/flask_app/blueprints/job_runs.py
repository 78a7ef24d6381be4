from flask import Blueprint

bp = Blueprint("job_runs", __name__)
