"""`vidseek serve`: a local search app (FastAPI + uvicorn). Import `create_app` from .app; this
package stays import-light so `vidseek --help` never pulls in the web stack."""
