/** @odoo-module */

import { registry } from "@web/core/registry";

// Odoo 18.0 and 19.0 keep the tour utilities in different modules (@web_tour/tour_service/tour_utils,
// @web_tour/tour_utils): importing either fails on the other series, so the steps are written out here
const saveForm = () => [
    {content: "save form", trigger: ".o_form_button_save:enabled", run: "click"},
    {content: "wait for save completion", trigger: ".o_form_readonly, .o_form_saved"},
];

function openMenu(section, xmlid) {
    return [
        { trigger: `.o_menu_sections [data-menu-xmlid="${section}"]`, run: "click" },
        { trigger: `.dropdown-item[data-menu-xmlid="${xmlid}"]`, run: "click" },
    ];
}

function pick(field, text, choice) {
    return [
        { trigger: `.o_form_view .o_field_widget[name=${field}] input`, run: `edit ${text}` },
        { trigger: `.ui-menu-item a:contains(${choice})`, run: "click" },
    ];
}

/** Pick a field with the Value's field picker of the mapping line being edited. */
function pickField(name) {
    return [
        {
            trigger: ".o_field_widget[name=line_ids] .o_selected_row [name=value] .o_model_field_selector",
            run: "click",
        },
        {
            trigger: `.o_model_field_selector_popover_item[data-name=${name}] .o_model_field_selector_popover_item_name`,
            run: "click",
        },
        { trigger: "body:not(:has(.o_model_field_selector_popover))" },
    ];
}

/**
 * An admin maps partners: a library, a schema, a data type with lines and a
 * condition, its schema generated from the lines, and a record previewed.
 */
registry.category("web_tour.tours").add("sync_admin_mapping_tour", {
    url: "/odoo/action-sync_mapping.sync_library_action",
    steps: () => [
        { trigger: ".o_list_button_add", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=name] input", run: "edit Tour Contacts" },
        { trigger: ".o_form_view .o_field_widget[name=slug] input", run: "edit tour_contacts" },
        ...saveForm(),
        // a schema of the library
        ...openMenu("sync_base.sync_menu_configuration", "sync_mapping.sync_schema_menu"),
        { trigger: ".o_list_button_add", run: "click" },
        ...pick("library_id", "Tour Contacts", "Tour Contacts"),
        { trigger: ".o_form_view .o_field_widget[name=name] input", run: "edit Tour Partner" },
        { trigger: ".o_form_view .o_field_widget[name=slug] input", run: "edit tour_partner" },
        ...saveForm(),
        // a data type with two lines and a condition
        ...openMenu("sync_base.sync_menu_configuration", "sync_mapping.sync_data_type_menu"),
        { trigger: ".o_list_button_add", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=name] input", run: "edit Tour Partners" },
        ...pick("library_id", "Tour Contacts", "Tour Contacts"),
        ...pick("model_id", "res.partner", "/^Contact$/"),
        ...pick("schema_id", "Tour Partner", "tour_contacts.tour_partner"),
        { trigger: ".o_field_widget[name=line_ids] .o_field_x2many_list_row_add a", run: "click" },
        ...pickField("name"),
        { trigger: ".o_field_widget[name=line_ids] .o_selected_row [name=name] input", run: "edit name" },
        { trigger: ".o_field_widget[name=line_ids] .o_field_x2many_list_row_add a", run: "click" },
        { trigger: ".o_field_widget[name=line_ids] .o_data_row:eq(1).o_selected_row [name=value]" },
        ...pickField("email"),
        { trigger: ".o_field_widget[name=line_ids] .o_selected_row [name=name] input", run: "edit email" },
        { trigger: ".o_notebook a:contains(Conditions)", run: "click" },
        { trigger: ".o_field_widget[name=condition_ids] .o_field_x2many_list_row_add a", run: "click" },
        {
            trigger: ".o_field_widget[name=condition_ids] .o_selected_row [name=field_name] input",
            run: "edit active",
        },
        { trigger: ".o_field_widget[name=condition_ids] .o_selected_row [name=value] input", run: "edit True" },
        ...saveForm(),
        { trigger: ".o_stat_text:contains(Lines)" },
        { trigger: ".o_statusbar_buttons button[name=action_generate_schema]", run: "click" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        // the generated schema opens: it has the lines' properties
        { trigger: ".o_form_view .o_field_widget[name=schema] textarea:value(/email/)" },
        { trigger: ".o_breadcrumb a:contains(Tour Partners)", run: "click" },
        { trigger: ".o_statusbar_buttons button[name=action_preview]", run: "click" },
        { trigger: ".modal .o_field_widget[name=document]:contains(email)" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: "body:not(:has(.modal))" },
    ],
});

/** The admin opens the outgoing queue, filters the failed messages and retries one. */
registry.category("web_tour.tours").add("sync_admin_queue_tour", {
    url: "/odoo/action-sync_queue.sync_message_action",
    steps: () => [
        { trigger: ".o_searchview_dropdown_toggler", run: "click" },
        { trigger: ".o_filter_menu .o_menu_item:contains(Failed)", run: "click" },
        { trigger: ".o_facet_values:contains(Failed)" },
        { trigger: ".o_data_row:contains(Tour failed) td[name=record_name]", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=last_error]:contains(refused by the tour)" },
        { trigger: ".o_statusbar_buttons button[name=action_retry]", run: "click" },
        { trigger: ".o_statusbar_status button:contains(Retry)" },
    ],
});
