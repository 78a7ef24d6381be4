from flask import Blueprint

bp = Blueprint("executions", __name__)
