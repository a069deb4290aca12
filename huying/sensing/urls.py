from django.urls import path  # noqa: F401

app_name = "sensing"
urlpatterns = [
    # each part adds its pages here
]
