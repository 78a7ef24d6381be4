from flask import Blueprint

bp = Blueprint("scheduler", __name__)
