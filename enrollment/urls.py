app_name = "enrollment"

urlpatterns: list = [
]
