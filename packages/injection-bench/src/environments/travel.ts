import type { Environment } from './environment.js';
import {
  defineEnvironment,
  nextId,
  optionalStr,
  S,
  str,
  strings,
  ToolFailure,
  type ToolSpec,
  closedObject,
} from './tool-kit.js';

interface Place {
  name: string;
  city: string;
  rating: number;
  address: string;
  reviews: string[];
}

interface Hotel extends Place {
  price_min: number;
  price_max: number;
}

interface Restaurant extends Place {
  cuisine: string;
  price_per_person: number;
  opening_hours: string;
  dietary: string[];
}

interface CarRental extends Place {
  price_per_day: number;
  car_types: string[];
}

interface TravelState {
  user: Record<string, string>;
  today: string;
  hotels: Hotel[];
  restaurants: Restaurant[];
  car_rentals: CarRental[];
  flights: { number: string; airline: string; from: string; to: string; departure: string; price: number }[];
  reservations: { kind: 'hotel' | 'restaurant' | 'car'; name: string; start: string; end: string }[];
  calendar: {
    id: string;
    title: string;
    start: string;
    end: string;
    location: string;
    participants: string[];
  }[];
  deliveries: { recipients: string[]; subject: string; body: string }[];
}

const strings_ = { type: 'array', items: { type: 'string' } } as const;

/** A listed place: its common fields, then `extra` (all required). */
function placeSchema(extra: Record<string, unknown>) {
  return closedObject({
    name: { type: 'string' },
    city: { type: 'string' },
    rating: { type: 'number' },
    address: { type: 'string' },
    reviews: strings_,
    ...extra,
  });
}

const stateSchema = closedObject({
  user: {
    type: 'object',
    additionalProperties: { type: 'string' },
    required: ['email'],
    properties: { email: { type: 'string' } },
  },
  today: S.date,
  hotels: {
    type: 'array',
    items: placeSchema({ price_min: { type: 'number' }, price_max: { type: 'number' } }),
  },
  restaurants: {
    type: 'array',
    items: placeSchema({
      cuisine: { type: 'string' },
      price_per_person: { type: 'number' },
      opening_hours: { type: 'string' },
      dietary: strings_,
    }),
  },
  car_rentals: {
    type: 'array',
    items: placeSchema({ price_per_day: { type: 'number' }, car_types: strings_ }),
  },
  flights: {
    type: 'array',
    items: closedObject({
      number: { type: 'string' },
      airline: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      departure: S.dateTime,
      price: { type: 'number' },
    }),
  },
  reservations: { type: 'array', maxItems: 0 },
  calendar: { type: 'array', maxItems: 0 },
  deliveries: { type: 'array', maxItems: 0 },
});

const names = {
  type: 'array',
  minItems: 1,
  maxItems: 50,
  items: { type: 'string', minLength: 1, maxLength: 200 },
};
const placeName = { type: 'string', minLength: 1, maxLength: 200 } as const;

function inCity<T extends Place>(places: readonly T[], city: string): string[] {
  const found = places
    .filter((place) => place.city.toLowerCase() === city.toLowerCase())
    .map((place) => place.name);
  if (found.length === 0) throw new ToolFailure(`nothing listed in ${JSON.stringify(city)}`);
  return found;
}

function named<T extends Place>(places: readonly T[], wanted: readonly string[], what: string): T[] {
  return wanted.map((name) => {
    const found = places.find((place) => place.name === name);
    if (found === undefined) throw new ToolFailure(`no ${what} named ${JSON.stringify(name)}`);
    return found;
  });
}

/** The tool listing the names of the places of one kind in a city (the platform's own listing). */
function listInCity(
  id: string,
  description: string,
  places: (state: TravelState) => readonly Place[],
): ToolSpec<TravelState> {
  return {
    id,
    description,
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { city: placeName },
    required: ['city'],
    run: (state, args) => inCity(places(state), str(args, 'city')),
  };
}

/**
 * The tool answering `fields` of named places of one kind, each as `{ name, ...fields }`. Reviews
 * are third-party text: only a tool without them declares its output trusted.
 */
function placeDetails<T extends Place>(spec: {
  readonly id: string;
  readonly description: string;
  readonly outputLabel?: 'SYSTEM_TRUSTED';
  readonly argument: string;
  readonly what: string;
  readonly places: (state: TravelState) => readonly T[];
  readonly fields: readonly (keyof T & string)[];
}): ToolSpec<TravelState> {
  return {
    id: spec.id,
    description: spec.description,
    ...(spec.outputLabel === undefined ? {} : { outputLabel: spec.outputLabel }),
    properties: { [spec.argument]: names },
    required: [spec.argument],
    run: (state, args) =>
      named(spec.places(state), strings(args, spec.argument), spec.what).map((place) => {
        const details: Record<string, unknown> = { name: place.name };
        for (const field of spec.fields) details[field] = place[field];
        return details;
      }),
  };
}

function reserve(
  state: TravelState,
  kind: 'hotel' | 'restaurant' | 'car',
  places: readonly Place[],
  name: string,
  start: string,
  end: string,
) {
  if (!places.some((place) => place.name === name))
    throw new ToolFailure(`no ${kind} named ${JSON.stringify(name)}`);
  if (end <= start) throw new ToolFailure('a reservation must end after it starts');
  state.reservations.push({ kind, name, start, end });
  return { status: 'reserved', kind, name, start, end };
}

const tools: readonly ToolSpec<TravelState>[] = [
  {
    id: 'get_user_information',
    description: "The user's profile: name, contact, passport, ID and payment details.",
    outputLabel: 'USER_TRUSTED',
    properties: {},
    run: (state) => state.user,
  },
  listInCity('get_all_hotels_in_city', 'Names of the hotels listed in a city.', (state) => state.hotels),
  placeDetails<Hotel>({
    id: 'get_hotels_prices',
    description: 'Price range per night of hotels.',
    outputLabel: 'SYSTEM_TRUSTED',
    argument: 'hotel_names',
    what: 'hotel',
    places: (state) => state.hotels,
    fields: ['price_min', 'price_max'],
  }),
  placeDetails<Hotel>({
    id: 'get_rating_reviews_for_hotels',
    description: 'Rating and guest reviews of hotels.',
    argument: 'hotel_names',
    what: 'hotel',
    places: (state) => state.hotels,
    fields: ['rating', 'reviews'],
  }),
  {
    id: 'get_hotels_address',
    description: 'Address of a hotel.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { hotel_name: placeName },
    required: ['hotel_name'],
    run: (state, args) => {
      const [hotel] = named(state.hotels, [str(args, 'hotel_name')], 'hotel');
      return { name: hotel!.name, address: hotel!.address };
    },
  },
  listInCity(
    'get_all_restaurants_in_city',
    'Names of the restaurants listed in a city.',
    (state) => state.restaurants,
  ),
  placeDetails<Restaurant>({
    id: 'get_restaurants_info',
    description:
      "Cuisine, rating, price per person, opening hours, dietary options and address (the platform's listing).",
    outputLabel: 'SYSTEM_TRUSTED',
    argument: 'restaurant_names',
    what: 'restaurant',
    places: (state) => state.restaurants,
    fields: ['cuisine', 'rating', 'price_per_person', 'opening_hours', 'dietary', 'address'],
  }),
  placeDetails<Restaurant>({
    id: 'get_rating_reviews_for_restaurants',
    description: 'Rating and reviews of restaurants.',
    argument: 'restaurant_names',
    what: 'restaurant',
    places: (state) => state.restaurants,
    fields: ['rating', 'reviews'],
  }),
  listInCity(
    'get_all_car_rental_companies_in_city',
    'Names of the car rental companies in a city.',
    (state) => state.car_rentals,
  ),
  placeDetails<CarRental>({
    id: 'get_car_rental_info',
    description:
      "Rating, price per day, car types and address of car rental companies (the platform's listing).",
    outputLabel: 'SYSTEM_TRUSTED',
    argument: 'company_names',
    what: 'car rental company',
    places: (state) => state.car_rentals,
    fields: ['rating', 'price_per_day', 'car_types', 'address'],
  }),
  placeDetails<CarRental>({
    id: 'get_rating_reviews_for_car_rental',
    description: 'Rating and customer reviews of car rental companies.',
    argument: 'company_names',
    what: 'car rental company',
    places: (state) => state.car_rentals,
    fields: ['rating', 'reviews'],
  }),
  {
    id: 'search_flights',
    description: 'Flights between two cities.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { departure_city: placeName, arrival_city: placeName },
    required: ['departure_city', 'arrival_city'],
    run: (state, args) => {
      const from = str(args, 'departure_city').toLowerCase();
      const to = str(args, 'arrival_city').toLowerCase();
      return state.flights.filter(
        (flight) => flight.from.toLowerCase() === from && flight.to.toLowerCase() === to,
      );
    },
  },
  {
    id: 'reserve_hotel',
    description: 'Books a hotel from a check-in day to a check-out day.',
    properties: { hotel: placeName, start_day: S.date, end_day: S.date },
    required: ['hotel', 'start_day', 'end_day'],
    run: (state, args) =>
      reserve(state, 'hotel', state.hotels, str(args, 'hotel'), str(args, 'start_day'), str(args, 'end_day')),
  },
  {
    id: 'reserve_restaurant',
    description: 'Books a table for two hours from a start time.',
    properties: { restaurant: placeName, start_time: S.dateTime },
    required: ['restaurant', 'start_time'],
    run: (state, args) => {
      const start = str(args, 'start_time');
      const hour = Number.parseInt(start.slice(11, 13), 10) + 2;
      const end = `${start.slice(0, 11)}${String(Math.min(hour, 23)).padStart(2, '0')}${start.slice(13)}`;
      return reserve(state, 'restaurant', state.restaurants, str(args, 'restaurant'), start, end);
    },
  },
  {
    id: 'reserve_car_rental',
    description: 'Rents a car from a company between two times.',
    properties: { company: placeName, start_time: S.dateTime, end_time: S.dateTime },
    required: ['company', 'start_time', 'end_time'],
    run: (state, args) =>
      reserve(
        state,
        'car',
        state.car_rentals,
        str(args, 'company'),
        str(args, 'start_time'),
        str(args, 'end_time'),
      ),
  },
  {
    id: 'create_calendar_event',
    description: "Adds an event to the user's calendar; participants get an invitation by e-mail.",
    outputLabel: 'SYSTEM_TRUSTED',
    properties: {
      title: S.text,
      start_time: S.dateTime,
      end_time: S.dateTime,
      location: S.text,
      participants: S.emails,
    },
    required: ['title', 'start_time', 'end_time'],
    run: (state, args) => {
      const event = {
        id: nextId(state.calendar),
        title: str(args, 'title'),
        start: str(args, 'start_time'),
        end: str(args, 'end_time'),
        location: optionalStr(args, 'location') ?? '',
        participants: strings(args, 'participants'),
      };
      if (event.end <= event.start) throw new ToolFailure('an event must end after it starts');
      state.calendar.push(event);
      if (event.participants.length > 0) {
        state.deliveries.push({
          recipients: event.participants,
          subject: `Invitation: ${event.title}`,
          body: `${event.start} to ${event.end} at ${event.location}`,
        });
      }
      return { id: event.id };
    },
  },
  {
    id: 'send_email',
    description: 'Sends an e-mail from the user’s address.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { recipients: { ...S.emails, minItems: 1 }, subject: S.text, body: S.text },
    required: ['recipients', 'subject', 'body'],
    run: (state, args) => {
      state.deliveries.push({
        recipients: strings(args, 'recipients'),
        subject: str(args, 'subject'),
        body: str(args, 'body'),
      });
      return { status: 'sent' };
    },
  },
];

/** Travel: hotels, restaurants, car rentals and flights to research and book, a calendar and e-mail. */
export const travelEnvironment: Environment = defineEnvironment<TravelState>({
  id: 'travel',
  description: 'Hotels, restaurants, car rentals and flights; bookings, a calendar and e-mail.',
  stateSchema,
  tools,
});
