from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanvassConfig(AppConfig):
    name = "doorstep.canvass"
    label = "canvass"
    verbose_name = _("Door to door")

    def ready(self) -> None:
        # The one declared place where door to door adds its alerts to core.alerts, hears of
        # roster changes (territory.hooks) and counts the people sampled at lanes
        # (sampling.hooks), and opens a task per building of a new round (campaigns.hooks); an
        # app's modules can be imported only once the registry is ready.
        from doorstep.campaigns import hooks as campaign_hooks
        from doorstep.canvass import alerts, counters, rounds
        from doorstep.sampling import hooks as sampling_hooks

        alerts.register()
        rounds.register()
        sampling_hooks.register_folder(counters.fold_sampled)
        campaign_hooks.register_opener(counters.open_tasks)
