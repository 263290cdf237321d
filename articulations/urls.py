app_name = "articulations"

urlpatterns: list = [
]
