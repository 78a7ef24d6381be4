from flask import Blueprint

bp = Blueprint("cron", __name__)
