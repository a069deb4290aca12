from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("reply/<int:pk>/", views.reply_score, name="reply_score"),
]
