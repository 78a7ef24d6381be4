from flask import Blueprint

bp = Blueprint("bulk_upload", __name__)
