from django.urls import path

from . import views, views_setup, views_work, views_worksystem

app_name = "party"
urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.member_home, name="member"),
    path("org/", views.org_home, name="org"),
    path("org/import/", views_work.member_import, name="member_import"),
    path("org/import/template.xlsx", views_work.member_import_template, name="member_import_template"),
    path("community/", views.community_home, name="community"),
    path("summary/", views.summary, name="summary"),
    path("studios/", views.studio_list, name="studios"),
    path("studios/<int:pk>/", views.studio_detail, name="studio"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("activities/", views_work.activity_list, name="activities"),
    path("activities/<int:pk>/", views_work.activity_detail, name="activity"),
    path("cobuilding/", views_work.pairing_list, name="pairings"),
    path("cobuilding/<int:pk>/", views_work.pairing_detail, name="pairing"),
    path("cobuilding/problems/<int:pk>/", views_work.problem_detail, name="problem"),
    path("ratings/<int:pk>/", views_work.rating_detail, name="rating"),
    path("teams/", views_work.teams, name="teams"),
    path("work/", views_worksystem.work_home, name="work"),
    path("work/districts/<str:code>/", views_worksystem.work_district, name="work_district"),
    path("work/plans/<int:pk>/", views_worksystem.work_plan, name="work_plan"),
    path("work/points/<int:pk>/", views_worksystem.work_point, name="work_point"),
    path("work/meetings/<int:pk>/", views_worksystem.work_meeting, name="work_meeting"),
    path("setup/", views_setup.setup_home, name="setup"),
    path("setup/orgs/<int:pk>/", views_setup.setup_org, name="setup_org"),
    path("setup/import/", views_setup.setup_import, name="setup_import"),
    path("setup/import/template.xlsx", views_setup.setup_import_template, name="setup_import_template"),
    path("setup/joint/", views_setup.setup_joint, name="setup_joint"),
    path("setup/instructors/", views_setup.setup_instructors, name="setup_instructors"),
    path("setup/studios/", views_setup.setup_studios, name="setup_studios"),
    path("setup/rules/", views_setup.setup_rules, name="setup_rules"),
    path("setup/rules/<int:pk>/", views_setup.setup_rule, name="setup_rule"),
]
