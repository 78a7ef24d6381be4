from flask import Blueprint

bp = Blueprint("categories", __name__)
