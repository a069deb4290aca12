from django.urls import path

from . import views

app_name = "party"
urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.member_home, name="member"),
    path("org/", views.org_home, name="org"),
    path("community/", views.community_home, name="community"),
    path("summary/", views.summary, name="summary"),
    path("studios/", views.studio_list, name="studios"),
    path("studios/<int:pk>/", views.studio_detail, name="studio"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
]
