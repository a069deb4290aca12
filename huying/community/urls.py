from django.urls import path  # noqa: F401

from . import views_halls, views_projects, views_volunteers

app_name = "community"
urlpatterns = [
    path("projects/", views_projects.projects_home, name="projects"),
    path("projects/lift/<int:pk>/", views_projects.lift_vote, name="lift_vote"),
    path("projects/manage/", views_projects.manage, name="projects_manage"),
    path("projects/manage/lift/<int:pk>/", views_projects.lift_manage, name="lift_manage"),
    path("projects/manage/lift/<int:pk>/advance/", views_projects.lift_advance, name="lift_advance"),
    path("projects/manage/canteen/<int:pk>/", views_projects.canteen_manage, name="canteen_manage"),
    path("projects/manage/renovation/<int:pk>/", views_projects.renovation_manage, name="renovation_manage"),
    path("volunteers/", views_volunteers.home, name="volunteers"),
    path("volunteers/activity/<int:pk>/sign-up/", views_volunteers.sign_up, name="volunteers_sign_up"),
    path("volunteers/patrol/", views_volunteers.patrol_new, name="volunteers_patrol"),
    path("volunteers/lead/", views_volunteers.lead, name="volunteers_lead"),
    path("volunteers/lead/activity/<int:pk>/", views_volunteers.activity, name="volunteers_activity"),
    path("halls/", views_halls.home, name="halls"),
    path("halls/raise/", views_halls.raise_matter, name="halls_raise"),
    path("halls/vote/<int:pk>/", views_halls.cast, name="halls_cast"),
    path("halls/manage/", views_halls.manage_index, name="halls_manage_index"),
    path("halls/manage/<int:pk>/", views_halls.manage, name="halls_manage"),
    path("halls/manage/<int:pk>/<slug:action>/", views_halls.manage_act, name="halls_act"),
    # each part adds its pages here
]
