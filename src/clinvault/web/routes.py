from fastapi import FastAPI


def mount_portal(app: FastAPI) -> None:
    return None
